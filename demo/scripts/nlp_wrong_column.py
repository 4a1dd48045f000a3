import re

import numpy as np
import pandas as pd

train = pd.read_csv("./data/train.csv")
test = pd.read_csv("./data/test.csv")


def clean(text):
    text = text.lower()
    text = re.sub(r"http\S+", " ", text)
    text = re.sub(r"[^a-z\s]", " ", text)
    return text.split()


train_tokens = train["text"].map(clean)
test_tokens = test["text"].map(clean)

# Vocabulary of words seen at least twice
counts = {}
for tokens in train_tokens:
    for tok in tokens:
        counts[tok] = counts.get(tok, 0) + 1
vocab = {tok: i for i, tok in enumerate(sorted(t for t, c in counts.items() if c >= 2))}
print(f"Vocabulary size: {len(vocab)}")


def vectorize(token_lists):
    X = np.zeros((len(token_lists), len(vocab)))
    for row, tokens in enumerate(token_lists):
        for tok in tokens:
            if tok in vocab:
                X[row, vocab[tok]] = 1.0
    return X


X = vectorize(train_tokens)
X_test = vectorize(test_tokens)
y = train["label"].to_numpy()

# Logistic regression trained with gradient descent
w = np.zeros(X.shape[1])
b = 0.0
for epoch in range(300):
    p = 1 / (1 + np.exp(-(X @ w + b)))
    w -= 0.5 * (X.T @ (p - y) / len(y) + 1e-3 * w)
    b -= 0.5 * np.mean(p - y)

train_acc = ((X @ w + b > 0).astype(int) == y).mean()
print(f"Train accuracy: {train_acc:.4f}")

submission = pd.DataFrame({"id": test["id"], "target": (X_test @ w + b > 0).astype(int)})
submission.to_csv("./submission.csv", index=False)
