import numpy as np
import pandas as pd

train = pd.read_csv("./data/train.csv")
test = pd.read_csv("./data/test.csv")

features = [c for c in train.columns if c not in ("Id", "Cover_Type")]
X = train[features].to_numpy(dtype=float)
X_test = test[features].to_numpy(dtype=float)
mu, sd = X.mean(axis=0), X.std(axis=0) + 1e-9
X, X_test = (X - mu) / sd, (X_test - mu) / sd

n_classes = train["Cover_Type"].nunique()
y = train["Cover_Type"].to_numpy()
print(f"{X.shape[0]} rows, {X.shape[1]} features, {n_classes} classes")

# One-hot targets for softmax regression
Y = np.zeros((len(y), n_classes))
Y[np.arange(len(y)), y] = 1.0

W = np.zeros((X.shape[1], n_classes))
for it in range(500):
    logits = X @ W
    logits -= logits.max(axis=1, keepdims=True)
    P = np.exp(logits)
    P /= P.sum(axis=1, keepdims=True)
    W -= 0.1 * X.T @ (P - Y) / len(X)

print("Train accuracy:", (np.argmax(X @ W, axis=1) == y).mean())
pred = np.argmax(X_test @ W, axis=1)
pd.DataFrame({"Id": test["Id"], "Cover_Type": pred}).to_csv("./submission.csv", index=False)
