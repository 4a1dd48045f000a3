import os
import urllib.request
import zipfile

import numpy as np
import pandas as pd

GLOVE_URL = "https://nlp.stanford.edu/data/glove.6B.zip"
GLOVE_DIR = "./glove"
EMBED_DIM = 100

train = pd.read_csv("./data/train.csv")
test = pd.read_csv("./data/test.csv")
print(f"Loaded {len(train)} training tweets and {len(test)} test tweets")

# Download pretrained GloVe word vectors
os.makedirs(GLOVE_DIR, exist_ok=True)
archive = os.path.join(GLOVE_DIR, "glove.6B.zip")
if not os.path.exists(archive):
    print("Downloading GloVe embeddings...")
    urllib.request.urlretrieve(GLOVE_URL, archive)
with zipfile.ZipFile(archive) as zf:
    zf.extract(f"glove.6B.{EMBED_DIM}d.txt", GLOVE_DIR)

embeddings = {}
with open(os.path.join(GLOVE_DIR, f"glove.6B.{EMBED_DIM}d.txt"), encoding="utf8") as f:
    for line in f:
        word, *vec = line.rstrip().split(" ")
        embeddings[word] = np.asarray(vec, dtype=np.float32)


def embed(text):
    vectors = [embeddings[w] for w in text.lower().split() if w in embeddings]
    return np.mean(vectors, axis=0) if vectors else np.zeros(EMBED_DIM, dtype=np.float32)


X = np.stack(train["text"].map(embed).to_list())
X_test = np.stack(test["text"].map(embed).to_list())
y = train["target"].to_numpy()

w, b = np.zeros(EMBED_DIM), 0.0
for epoch in range(500):
    p = 1 / (1 + np.exp(-(X @ w + b)))
    w -= 0.1 * X.T @ (p - y) / len(y)
    b -= 0.1 * np.mean(p - y)

pd.DataFrame({"id": test["id"], "target": (X_test @ w + b > 0).astype(int)}).to_csv("./submission.csv", index=False)
