import re
from collections import Counter

import numpy as np
import pandas as pd

train = pd.read_csv("./data/train.csv")
test = pd.read_csv("./data/test.csv")


def tokenize(text, keyword):
    words = re.findall(r"[a-z#@]+", text.lower())
    if isinstance(keyword, str):
        words.append("kw_" + keyword.lower())
    return words


train_tokens = [tokenize(t, k) for t, k in zip(train["text"], train["keyword"])]
test_tokens = [tokenize(t, k) for t, k in zip(test["text"], test["keyword"])]

# Multinomial naive Bayes with add-one smoothing
rng = np.random.default_rng(7)
order = rng.permutation(len(train))
val_idx, fit_idx = order[:60], order[60:]


def fit(indices):
    counts = {0: Counter(), 1: Counter()}
    for i in indices:
        counts[train["target"].iloc[i]].update(train_tokens[i])
    vocab = set(counts[0]) | set(counts[1])
    priors = np.log(np.bincount(train["target"].iloc[indices], minlength=2) / len(indices))
    return counts, vocab, priors


def predict(model, token_lists):
    counts, vocab, priors = model
    totals = {c: sum(counts[c].values()) + len(vocab) for c in (0, 1)}
    preds = []
    for tokens in token_lists:
        scores = [priors[c] + sum(np.log((counts[c][w] + 1) / totals[c]) for w in tokens if w in vocab) for c in (0, 1)]
        preds.append(int(scores[1] > scores[0]))
    return np.array(preds)


model = fit(fit_idx)
val_pred = predict(model, [train_tokens[i] for i in val_idx])
val_true = train["target"].iloc[val_idx].to_numpy()
tp = ((val_pred == 1) & (val_true == 1)).sum()
f1 = 2 * tp / (val_pred.sum() + val_true.sum())
print(f"Validation F1: {f1:.4f}")

model = fit(np.arange(len(train)))
submission = pd.DataFrame({"id": test["id"], "target": predict(model, test_tokens)})
submission.to_csv("./submission.csv", index=False)
print("Wrote ./submission.csv with", len(submission), "rows")
