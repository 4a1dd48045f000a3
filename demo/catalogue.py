"""The demo's rows: one agent script each, and what each is there to show.

The parquet gets only the client's columns (id, plan, competition_id,
analysis, code, _term_out, exec_time). What a row is for stays here, for the
builder's checks and for tests: the exception its recorded output ends with,
the verdict a re-run against the shipped data gives, and for fixable rows
the smallest fix of each debug step (as text replacements).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "scripts"
_ID_NAMESPACE = uuid.UUID("6d1f0c8e-4b7a-4d3e-9a51-2f8c0e7b9d14")
GENERATION_TIME_LIMIT = 60.0  # seconds, for every recorded run but the one meant to reach the limit


@dataclass(frozen=True)
class FixStep:
    """The smallest fix of one debug step, as text replacements in that step's code, and how its run ends."""

    edits: tuple[tuple[str, str], ...]  # (old, new); each old text occurs exactly once in the step's code
    verdict: str  # "clean" for the last step; "error" when the fix uncovers the next bug
    exception: str | None = None  # the next bug's exception, when verdict is "error"

    def apply(self, code: str) -> str:
        for old, new in self.edits:
            if code.count(old) != 1:
                raise ValueError(f"demo fix: {old!r} occurs {code.count(old)} times, not once")
            code = code.replace(old, new)
        return code


@dataclass(frozen=True)
class DemoRow:
    name: str  # a short handle for people and tests
    competition_id: str
    script: str  # file in scripts/ holding the row's code
    case: str  # what the row shows, one line
    plan: str
    analysis: str
    recorded_exception: str | None  # what the recorded output ends with; None: no traceback
    rerun_verdict: str  # verdict kind when re-run against the shipped data
    rerun_exception: str | None = None  # the exception of that re-run, when it is an error
    fixes: tuple[FixStep, ...] = ()  # one per debug step, for fixable rows
    reject_reason: str | None = None  # what an annotator should reject it as, if anything
    snapshot: str = "current"  # the data snapshot its recorded run saw (see data_maker.SNAPSHOT_CHANGES)
    time_limit: float = GENERATION_TIME_LIMIT  # the recorded run's time limit

    @property
    def id(self) -> str:
        """A stable 32-hex id, like AIDE's node ids."""
        return uuid.uuid5(_ID_NAMESPACE, self.name).hex

    @property
    def code(self) -> str:
        return (SCRIPTS / self.script).read_text(encoding="utf-8")

    @property
    def fixable(self) -> bool:
        return bool(self.fixes)

    def fixed_code(self, k: int) -> str:
        """The code after the fixes of debug steps 0..k-1 (k >= 1)."""
        code = self.code
        for fix in self.fixes[:k]:
            code = fix.apply(code)
        return code


_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")


def final_exception(term_out: str) -> str | None:
    """The exception an AIDE output ends with (``TimeoutError`` for a run past the limit), else None."""
    lines = term_out.rstrip("\n").split("\n")
    if lines[-1].startswith("TimeoutError: Execution exceeded the time limit"):
        return "TimeoutError"
    if "Traceback (most recent call last):" not in term_out or len(lines) < 2:
        return None
    match = _EXCEPTION_LINE.match(lines[-2])
    return match.group(1) if match else None


ROWS: tuple[DemoRow, ...] = (
    DemoRow(
        name="spaceship-input-path",
        competition_id="spaceship-titanic",
        script="spaceship_input_path.py",
        case="reads ./input/ instead of ./data/ (an AIDE habit)",
        plan="Build a small logistic regression on a few strong signals: total spending (log scaled), "
        "CryoSleep, age and whether the passenger comes from Europa. Hold out 20% of the rows to "
        "check accuracy, then predict Transported for the test set and save submission.csv.",
        analysis="The script crashed with FileNotFoundError because ./input/train.csv does not exist. "
        "The data files are probably not uploaded yet; the model code itself looks correct.",
        recorded_exception="FileNotFoundError",
        rerun_verdict="error",
        rerun_exception="FileNotFoundError",
        fixes=(
            FixStep(
                (('"./input/train.csv"', '"./data/train.csv"'), ('"./input/test.csv"', '"./data/test.csv"')), "clean"
            ),
        ),
    ),
    DemoRow(
        name="spaceship-submission-dir",
        competition_id="spaceship-titanic",
        script="spaceship_submission_dir.py",
        case="writes ./submission/submission.csv instead of ./submission.csv",
        plan="Use a categorical naive Bayes over HomePlanet, deck, side and a no-spending flag, with "
        "Laplace smoothing. Validate on a 20% sample and write the predictions for the test set.",
        analysis="The code ran successfully and reached a validation accuracy of 0.8833. The submission "
        "was saved, so there is no bug.",
        recorded_exception=None,
        rerun_verdict="no_submission",
        fixes=(
            FixStep(
                (
                    ('to_csv("./submission/submission.csv"', 'to_csv("./submission.csv"'),
                    ("saved to ./submission/submission.csv", "saved to ./submission.csv"),
                ),
                "clean",
            ),
        ),
    ),
    DemoRow(
        name="nlp-wrong-column",
        competition_id="nlp-getting-started",
        script="nlp_wrong_column.py",
        case="KeyError on a wrong column name",
        plan="Clean the tweets (lowercase, drop URLs and punctuation), build a binary bag of words over "
        "words seen at least twice, and train an L2-regularised logistic regression with gradient "
        "descent. Predict the target for the test tweets.",
        analysis="The vectorizer produced an empty matrix, so indexing the labels failed with a KeyError. "
        "The vocabulary threshold should be lowered.",
        recorded_exception="KeyError",
        rerun_verdict="error",
        rerun_exception="KeyError",
        fixes=(FixStep((('train["label"]', 'train["target"]'),), "clean"),),
    ),
    DemoRow(
        name="leaf-dataframe-append",
        competition_id="leaf-classification",
        script="leaf_append.py",
        case="hallucinated pandas API with a clear real equivalent (DataFrame.append, gone in pandas 2)",
        plan="Standardise the 192 margin/shape/texture features and classify each leaf by a softmax over "
        "negative squared distances to the species centroids. Write one probability column per "
        "species, as in sample_submission.csv.",
        analysis="The model trained fine (train accuracy 1.0) but building the submission failed with an "
        "AttributeError on DataFrame.append.",
        recorded_exception="AttributeError",
        rerun_verdict="error",
        rerun_exception="AttributeError",
        fixes=(
            FixStep(
                (
                    (
                        "submission.append(row, ignore_index=True)",
                        "pd.concat([submission, pd.DataFrame([row])], ignore_index=True)",
                    ),
                ),
                "clean",
            ),
        ),
    ),
    DemoRow(
        name="spaceship-string-to-float",
        competition_id="spaceship-titanic",
        script="spaceship_dtype.py",
        case="dtype error: a text column cast to float (ValueError)",
        plan="Encode CryoSleep as 0/1, fill missing numbers with the training median, standardise, and "
        "predict with a 15-nearest-neighbour vote.",
        analysis="The cast to float32 failed. Missing values in the spending columns must be filled before converting.",
        recorded_exception="ValueError",
        rerun_verdict="error",
        rerun_exception="ValueError",
        fixes=(
            FixStep(
                (
                    (
                        '    df["CryoSleep"] = df["CryoSleep"].map({True: 1.0, False: 0.0, "True": 1.0, "False": 0.0})\n',
                        '    df["CryoSleep"] = df["CryoSleep"].map({True: 1.0, False: 0.0, "True": 1.0, "False": 0.0})\n    df["HomePlanet"] = df["HomePlanet"].map({"Earth": 0.0, "Europa": 1.0, "Mars": 2.0})\n',
                    ),
                ),
                "clean",
            ),
        ),
    ),
    DemoRow(
        name="tps-label-index",
        competition_id="tabular-playground-series-dec-2021",
        script="tps_index_error.py",
        case="IndexError: labels 1..7 used as indices of a 7-column array",
        plan="Standardise all features and fit a softmax regression with full-batch gradient descent "
        "(500 iterations). Predict the most likely cover type for each test row.",
        analysis="The one-hot encoding failed with an IndexError; there seem to be more classes in the "
        "data than nunique() reports.",
        recorded_exception="IndexError",
        rerun_verdict="error",
        rerun_exception="IndexError",
        fixes=(
            FixStep(
                (
                    ('train["Cover_Type"].to_numpy()', 'train["Cover_Type"].to_numpy() - 1'),
                    ('"Cover_Type": pred}', '"Cover_Type": pred + 1}'),
                ),
                "clean",
            ),
        ),
    ),
    DemoRow(
        name="leaf-two-bugs",
        competition_id="leaf-classification",
        script="leaf_two_steps.py",
        case="needs two debug steps: fixing the id column exposes a submission shape mismatch",
        plan="Log-transform and standardise the leaf features, then train a multinomial logistic "
        "regression with weight decay. Output class probabilities in the sample submission's layout.",
        analysis="KeyError: 'Id' when popping the test ids; the test file's id column is named differently.",
        recorded_exception="KeyError",
        rerun_verdict="error",
        rerun_exception="KeyError",
        fixes=(
            FixStep((('test.pop("Id")', 'test.pop("id")'),), "error", "ValueError"),
            FixStep((("columns=sample.columns)", "columns=sample.columns[1:])"),), "clean"),
        ),
    ),
    DemoRow(
        name="nlp-glove-download",
        competition_id="nlp-getting-started",
        script="nlp_download_glove.py",
        case="downloads pretrained GloVe vectors from the internet: not fixable offline",
        plan="Represent each tweet by the mean of its pretrained GloVe (100d) word vectors and train a "
        "logistic regression on top. Download the embeddings first if they are missing.",
        analysis="The download of the GloVe archive failed. Retrying the download or using a mirror should fix it.",
        recorded_exception="urllib.error.URLError",
        rerun_verdict="error",
        rerun_exception="urllib.error.URLError",
    ),
    DemoRow(
        name="spaceship-imports-only",
        competition_id="spaceship-titanic",
        script="spaceship_imports_only.py",
        case="incomplete code: imports only",
        plan="Explore the data first: look at missing values and the balance of the target.",
        analysis="The script ran without errors but produced no output and no submission.",
        recorded_exception=None,
        rerun_verdict="no_submission",
        reject_reason="incomplete",
    ),
    DemoRow(
        name="tps-cut-off",
        competition_id="tabular-playground-series-dec-2021",
        script="tps_cut_off.py",
        case="incomplete code: cut off in the middle of a training loop (SyntaxError)",
        plan="Softmax regression trained with mini-batch SGD for 50 epochs on standardised features.",
        analysis="SyntaxError: a parenthesis is not closed in the training loop.",
        recorded_exception="SyntaxError",
        rerun_verdict="error",
        rerun_exception="SyntaxError",
        reject_reason="incomplete",
    ),
    DemoRow(
        name="nlp-prose-plan",
        competition_id="nlp-getting-started",
        script="nlp_prose_plan.py",
        case="a plan in prose instead of code",
        plan="TF-IDF features with a class-weighted logistic regression, validated by F1 on a hold-out.",
        analysis="The code has a syntax error on line 1.",
        recorded_exception="SyntaxError",
        rerun_verdict="error",
        rerun_exception="SyntaxError",
        reject_reason="no_code",
    ),
    DemoRow(
        name="nlp-not-buggy",
        competition_id="nlp-getting-started",
        script="nlp_not_buggy.py",
        case="not buggy: runs clean and writes ./submission.csv",
        plan="Multinomial naive Bayes over lowercase word tokens plus the keyword, with add-one smoothing; "
        "report F1 on 60 held-out tweets, refit on everything and predict.",
        analysis="The script ran but the validation F1 may be too optimistic; it is unclear whether the "
        "submission is valid.",
        recorded_exception=None,
        rerun_verdict="clean",
        reject_reason="not_buggy",
    ),
    DemoRow(
        name="tps-time-limit",
        competition_id="tabular-playground-series-dec-2021",
        script="tps_time_limit.py",
        case="a long training loop that goes past the time limit",
        plan="Oversample to 10,000 jittered rows so rare cover types are seen, then train a 128-unit "
        "two-layer MLP for 50,000 full-batch epochs, printing loss and accuracy every epoch.",
        analysis="The run timed out while training the MLP.",
        recorded_exception="TimeoutError",
        rerun_verdict="time_limit",
        reject_reason="time_limit",
        time_limit=8.0,
    ),
    DemoRow(
        name="tps-old-snapshot",
        competition_id="tabular-playground-series-dec-2021",
        script="tps_old_snapshot.py",
        case="recorded against an older data snapshot (id column named 'id'): a re-run fails differently",
        plan="Drop the identifier and constant soil columns, make a random 80/20 split, and classify by "
        "the nearest class centroid in standardised space.",
        analysis="KeyError: 'Id'. The test file has no 'Id' column; use the right identifier column.",
        recorded_exception="KeyError",
        rerun_verdict="error",
        rerun_exception="TypeError",
        fixes=(FixStep((("size=0.8 * len(train)", "size=int(0.8 * len(train))"),), "clean"),),
        snapshot="v1",
    ),
)


def row_by_name(name: str) -> DemoRow:
    for row in ROWS:
        if row.name == name:
            return row
    raise KeyError(name)
