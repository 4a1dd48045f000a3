"""Small, deterministic competition data in the MLE-bench cache layout.

``write_competition_data(root)`` writes, for each demo competition,
``root/<competition_id>/prepared/public/{train.csv,test.csv,sample_submission.csv}``
with the real competitions' column names and a few hundred synthetic rows.
The same call always writes the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

PUBLIC_FILES = ("train.csv", "test.csv", "sample_submission.csv")

# Leaf species from the real competition (it has 99; the demo keeps ten).
LEAF_SPECIES = (
    "Acer_Opalus",
    "Magnolia_Salicifolia",
    "Pterocarya_Stenoptera",
    "Quercus_Brantii",
    "Quercus_Canariensis",
    "Quercus_Hartwissiana",
    "Quercus_Rubra",
    "Quercus_Variabilis",
    "Salix_Fragilis",
    "Tilia_Tomentosa",
)
Frames = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]  # train, test, sample_submission


def competition_path(root: Path, competition_id: str) -> Path:
    """Where MLE-bench keeps a competition's prepared public files under ``root``."""
    return root / competition_id / "prepared" / "public"


def write_competition_data(root: Path, snapshot: str = "current") -> list[Path]:
    """Write every demo competition's files under ``root``; returns the competition folders.

    ``snapshot="v1"`` writes the older snapshot that some recorded runs saw
    (see ``SNAPSHOT_CHANGES``), ``"current"`` the data the demo ships.
    """
    folders = []
    for competition_id, make in MAKERS.items():
        frames = make()
        for change in SNAPSHOT_CHANGES[snapshot].get(competition_id, ()):
            frames = change(frames)
        folder = competition_path(root, competition_id)
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in zip(PUBLIC_FILES, frames, strict=False):
            frame.to_csv(folder / name, index=False, lineterminator="\n")
        folders.append(folder)
    return folders


def spaceship_titanic() -> Frames:
    rng = np.random.default_rng(101)
    n = 400
    group = np.sort(rng.choice(np.arange(1, 2000), size=n, replace=False))
    cryo = rng.random(n) < 0.35
    spend_cols = ["RoomService", "FoodCourt", "ShoppingMall", "Spa", "VRDeck"]
    spend = np.where(cryo[:, None], 0.0, np.round(rng.exponential(300, size=(n, 5)) * (rng.random((n, 5)) < 0.45)))
    first = np.array(["Ada", "Bron", "Cass", "Dara", "Elin", "Fenn", "Gale", "Hale", "Iris", "Joss"])
    last = np.array(["Vantis", "Orbel", "Kestran", "Mayfield", "Quorne", "Stellan", "Drovik", "Palmer"])
    frame = pd.DataFrame(
        {
            "PassengerId": [f"{g:04d}_01" for g in group],
            "HomePlanet": rng.choice(["Earth", "Europa", "Mars"], size=n, p=[0.55, 0.25, 0.2]),
            "CryoSleep": cryo,
            "Cabin": [
                f"{d}/{rng.integers(0, 1800)}/{s}"
                for d, s in zip(rng.choice(list("ABCDEFG"), size=n), rng.choice(["P", "S"], size=n), strict=False)
            ],
            "Destination": rng.choice(["TRAPPIST-1e", "55 Cancri e", "PSO J318.5-22"], size=n, p=[0.7, 0.2, 0.1]),
            "Age": rng.integers(0, 80, size=n).astype(float),
            "VIP": rng.random(n) < 0.03,
            **{col: spend[:, i] for i, col in enumerate(spend_cols)},
            "Name": [f"{a} {b}" for a, b in zip(rng.choice(first, size=n), rng.choice(last, size=n), strict=False)],
        }
    )
    score = 1.6 * cryo - 0.0012 * spend.sum(axis=1) + 0.4 * (frame["HomePlanet"] == "Europa") + rng.normal(0, 0.6, n)
    frame["Transported"] = score > 0
    frame = frame.astype({"CryoSleep": object, "VIP": object})
    _blank(frame, ["HomePlanet", "CryoSleep", "Cabin", "Destination", "Age", "VIP", *spend_cols, "Name"], 0.02, rng)
    train, test = (
        frame.iloc[:300].reset_index(drop=True),
        frame.iloc[300:].drop(columns="Transported").reset_index(drop=True),
    )
    sample = pd.DataFrame({"PassengerId": test["PassengerId"], "Transported": False})
    return train, test, sample


def nlp_getting_started() -> Frames:
    rng = np.random.default_rng(202)
    n = 400
    disasters = ["wildfire", "earthquake", "flood", "bush%20fires", "evacuation", "collapse", "explosion", "hurricane"]
    harmless = ["ablaze", "screaming", "wrecked", "fire", "crush", "panic", "bomb", "storm"]
    places = ["Birmingham", "California, USA", "Sask. Canada", "London", "Mumbai", "Lagos, Nigeria", "Sydney"]
    real = [
        "{kw} near {place} forces {n} families to evacuate, roads closed",
        "Residents asked to 'shelter in place' as {kw} spreads in {place}",
        "#breaking {kw} reported in {place}: at least {n} injured http://t.co/{code}",
        "Emergency crews respond to {kw} at {place} highway, {n} people missing",
    ]
    fake = [
        "this new album is {kw} honestly i can't stop listening lol",
        "my phone battery is {kw} after {n} minutes of gaming smh",
        "watching the game in {place} and the crowd is {kw} #sports",
        "{kw} playlist for monday mornings http://t.co/{code}",
    ]
    target = (rng.random(n) < 0.43).astype(int)
    texts, keywords = [], []
    for t in target:
        kw = rng.choice(disasters if t else harmless)
        template = rng.choice(real if t else fake)
        code = "".join(rng.choice(list("abcdefghijkmnpqrstuvwxyz0123456789"), size=10))
        texts.append(
            template.format(kw=kw.replace("%20", " "), place=rng.choice(places), n=int(rng.integers(2, 60)), code=code)
        )
        keywords.append(kw)
    frame = pd.DataFrame(
        {
            "id": np.sort(rng.choice(np.arange(1, 11000), size=n, replace=False)),
            "keyword": keywords,
            "location": rng.choice(places, size=n),
            "text": texts,
            "target": target,
        }
    )
    _blank(frame, ["keyword"], 0.01, rng)
    _blank(frame, ["location"], 0.33, rng)
    train, test = (
        frame.iloc[:300].reset_index(drop=True),
        frame.iloc[300:].drop(columns="target").reset_index(drop=True),
    )
    sample = pd.DataFrame({"id": test["id"], "target": 0})
    return train, test, sample


def leaf_classification() -> Frames:
    rng = np.random.default_rng(303)
    per_species, n_test = 30, 99
    kinds = {"margin": 0.0156, "shape": 0.0006, "texture": 0.0156}
    centres = {kind: rng.gamma(2.0, scale / 2.0, size=(len(LEAF_SPECIES), 64)) for kind, scale in kinds.items()}
    labels = np.concatenate(
        [np.repeat(np.arange(len(LEAF_SPECIES)), per_species), rng.integers(0, len(LEAF_SPECIES), size=n_test)]
    )
    columns: dict[str, object] = {"id": rng.permutation(np.arange(1, len(labels) + 1))}
    for kind, scale in kinds.items():
        values = np.abs(centres[kind][labels] + rng.normal(0, scale / 3.0, size=(len(labels), 64)))
        for j in range(64):
            columns[f"{kind}{j + 1}"] = np.round(values[:, j], 6)
    frame = pd.DataFrame(columns)
    frame.insert(1, "species", np.array(LEAF_SPECIES)[labels])
    n_train = per_species * len(LEAF_SPECIES)
    train = frame.iloc[:n_train].sample(frac=1.0, random_state=3).reset_index(drop=True)
    test = frame.iloc[n_train:].drop(columns="species").reset_index(drop=True)
    sample = pd.DataFrame({"id": test["id"], **{s: round(1 / len(LEAF_SPECIES), 6) for s in sorted(LEAF_SPECIES)}})
    return train, test, sample


def tabular_playground_dec_2021() -> Frames:
    rng = np.random.default_rng(404)
    n = 500
    cover = rng.choice(np.arange(1, 8), size=n, p=[0.36, 0.56, 0.05, 0.002, 0.001, 0.004, 0.023])
    base = {
        "Elevation": (2000, 3800),
        "Aspect": (0, 360),
        "Slope": (0, 52),
        "Horizontal_Distance_To_Hydrology": (0, 1400),
        "Vertical_Distance_To_Hydrology": (-150, 600),
        "Horizontal_Distance_To_Roadways": (0, 7000),
        "Hillshade_9am": (0, 255),
        "Hillshade_Noon": (0, 255),
        "Hillshade_3pm": (0, 255),
        "Horizontal_Distance_To_Fire_Points": (0, 7000),
    }
    columns: dict[str, object] = {"Id": np.arange(n)}
    for name, (low, high) in base.items():
        shift = (cover - 4) * (high - low) / 20 if name == "Elevation" else 0
        columns[name] = np.clip(rng.uniform(low, high, n) + shift, low, high).round().astype(int)
    area = rng.integers(0, 4, n)
    for a in range(4):
        columns[f"Wilderness_Area{a + 1}"] = (area == a).astype(int)
    soil = rng.integers(0, 40, n)
    for s in range(40):
        # Soil types 7 and 15 are all zeros in the real data too.
        columns[f"Soil_Type{s + 1}"] = ((soil == s) & (s not in (6, 14))).astype(int)
    frame = pd.DataFrame(columns)
    frame["Cover_Type"] = cover
    train = frame.iloc[:400].reset_index(drop=True)
    test = frame.iloc[400:].drop(columns="Cover_Type").reset_index(drop=True)
    sample = pd.DataFrame({"Id": test["Id"], "Cover_Type": 2})
    return train, test, sample


def _blank(frame: pd.DataFrame, columns: list[str], share: float, rng: np.random.Generator) -> None:
    """Blank out a share of each column's cells, as the real files have missing values."""
    for col in columns:
        mask = rng.random(len(frame)) < share
        frame[col] = frame[col].mask(mask)


def _rename_id_column(frames: Frames) -> Frames:
    train, test, sample = (f.rename(columns={"Id": "id"}) for f in frames)
    return train, test, sample


MAKERS: dict[str, Callable[[], Frames]] = {
    "spaceship-titanic": spaceship_titanic,
    "nlp-getting-started": nlp_getting_started,
    "leaf-classification": leaf_classification,
    "tabular-playground-series-dec-2021": tabular_playground_dec_2021,
}
COMPETITIONS = tuple(MAKERS)

# How older snapshots of the prepared data differed from the current one. The
# demo's recorded runs that used an older snapshot name it in the catalogue.
SNAPSHOT_CHANGES: dict[str, dict[str, tuple[Callable[[Frames], Frames], ...]]] = {
    "current": {},
    "v1": {"tabular-playground-series-dec-2021": (_rename_id_column,)},
}
