import numpy as np
import pandas as pd

train = pd.read_csv("./data/train.csv")
test = pd.read_csv("./data/test.csv")

features = [c for c in train.columns if c not in ("Id", "Cover_Type")]
X = train[features].to_numpy(dtype=np.float64)
y = train["Cover_Type"].to_numpy() - 1
X_test = test[features].to_numpy(dtype=np.float64)
mu, sd = X.mean(axis=0), X.std(axis=0) + 1e-9
X, X_test = (X - mu) / sd, (X_test - mu) / sd

# Oversample with jitter so the rare cover types are seen often enough
rng = np.random.default_rng(2021)
idx = rng.choice(len(X), size=10_000, replace=True)
X_aug = X[idx] + rng.normal(0, 0.05, size=(len(idx), X.shape[1]))
y_aug = y[idx]
print(f"Augmented training set: {X_aug.shape}")

# Two-layer MLP trained with full-batch gradient descent
HIDDEN, EPOCHS, LR = 128, 50_000, 0.05
W1 = rng.normal(0, np.sqrt(2 / X.shape[1]), size=(X.shape[1], HIDDEN))
W2 = rng.normal(0, np.sqrt(2 / HIDDEN), size=(HIDDEN, 7))
Y = np.eye(7)[y_aug]

for epoch in range(EPOCHS):
    H = np.maximum(X_aug @ W1, 0)
    Z = H @ W2
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(P[np.arange(len(y_aug)), y_aug] + 1e-12))
    G = (P - Y) / len(y_aug)
    dH = (G @ W2.T) * (H > 0)
    W2 -= LR * H.T @ G
    W1 -= LR * X_aug.T @ dH
    acc = (np.argmax(np.maximum(X @ W1, 0) @ W2, axis=1) == y).mean()
    print(f"Epoch {epoch + 1}/{EPOCHS} - loss: {loss:.4f} - train_acc: {acc:.4f}")

pred = np.argmax(np.maximum(X_test @ W1, 0) @ W2, axis=1) + 1
pd.DataFrame({"Id": test["Id"], "Cover_Type": pred}).to_csv("./submission.csv", index=False)
