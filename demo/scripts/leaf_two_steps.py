import numpy as np
import pandas as pd

train = pd.read_csv("./data/train.csv")
test = pd.read_csv("./data/test.csv")
sample = pd.read_csv("./data/sample_submission.csv")

# Separate ids and labels from the features
train_ids = train.pop("id")
labels = train.pop("species")
test_ids = test.pop("Id")

classes = np.array(sorted(labels.unique()))
y = np.searchsorted(classes, labels.to_numpy())
X = train.to_numpy()
X_test = test.to_numpy()

# Log-transform the heavy-tailed shape features, then standardize
X, X_test = np.log1p(X * 1000), np.log1p(X_test * 1000)
mu, sd = X.mean(axis=0), X.std(axis=0) + 1e-9
X, X_test = (X - mu) / sd, (X_test - mu) / sd

# Multinomial logistic regression
W = np.zeros((X.shape[1], len(classes)))
Y = np.eye(len(classes))[y]
for it in range(200):
    Z = X @ W
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    W -= 0.05 * (X.T @ (P - Y) / len(X) + 1e-3 * W)

log_loss = -np.mean(np.log(P[np.arange(len(y)), y] + 1e-15))
print(f"Train log loss: {log_loss:.4f}")

Z = X_test @ W
probs = np.exp(Z - Z.max(axis=1, keepdims=True))
probs /= probs.sum(axis=1, keepdims=True)

submission = pd.DataFrame(probs, columns=sample.columns)
submission.insert(0, "id", test_ids)
submission.to_csv("./submission.csv", index=False)
print("Submission shape:", submission.shape)
