import numpy as np
import pandas as pd

train = pd.read_csv("./data/train.csv")
test = pd.read_csv("./data/test.csv")
test_ids = test["Id"]

# Drop the identifier and the soil types that never occur
train = train.drop(columns=["Id"])
test = test.drop(columns=["Id"])
constant = [c for c in train.columns if train[c].nunique() == 1]
print("Dropping constant columns:", constant)
train = train.drop(columns=constant)
test = test.drop(columns=constant)

features = [c for c in train.columns if c != "Cover_Type"]
X = train[features].to_numpy(dtype=float)
y = train["Cover_Type"].to_numpy()
X_test = test[features].to_numpy(dtype=float)

# Random 80/20 split
np.random.seed(0)
train_idx = np.random.choice(len(train), size=0.8 * len(train), replace=False)
val_mask = np.ones(len(train), dtype=bool)
val_mask[train_idx] = False

# Nearest class centroid in standardized space
mu, sd = X[train_idx].mean(axis=0), X[train_idx].std(axis=0) + 1e-9
Z, Z_test = (X - mu) / sd, (X_test - mu) / sd
classes = np.unique(y[train_idx])
centroids = np.stack([Z[train_idx][y[train_idx] == c].mean(axis=0) for c in classes])


def predict(points):
    return classes[np.argmin(((points[:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)]


print(f"Validation accuracy: {(predict(Z[val_mask]) == y[val_mask]).mean():.4f}")
pd.DataFrame({"Id": test_ids, "Cover_Type": predict(Z_test)}).to_csv("./submission.csv", index=False)
