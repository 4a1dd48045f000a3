import numpy as np
import pandas as pd

train = pd.read_csv("./data/train.csv")
test = pd.read_csv("./data/test.csv")

features = [c for c in train.columns if c not in ("Id", "Cover_Type")]
X = train[features].to_numpy(dtype=float)
y = train["Cover_Type"].to_numpy() - 1
X_test = test[features].to_numpy(dtype=float)

mu, sd = X.mean(axis=0), X.std(axis=0) + 1e-9
X, X_test = (X - mu) / sd, (X_test - mu) / sd


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


rng = np.random.default_rng(0)
W = rng.normal(0, 0.01, size=(X.shape[1], 7))
b = np.zeros(7)
Y = np.eye(7)[y]

for epoch in range(50):
    perm = rng.permutation(len(X))
    for i in range(0, len(X), 64):
        idx = perm[i:i + 64]
        probs = softmax(X[idx] @ W + b