import numpy as np
import pandas as pd

# Load data
train = pd.read_csv("./input/train.csv")
test = pd.read_csv("./input/test.csv")

SPEND = ["RoomService", "FoodCourt", "ShoppingMall", "Spa", "VRDeck"]


def make_features(df):
    out = pd.DataFrame(index=df.index)
    spend = df[SPEND].fillna(0)
    out["log_spend"] = np.log1p(spend.sum(axis=1))
    out["cryo"] = (df["CryoSleep"] == True).astype(float)
    out["age"] = df["Age"].fillna(df["Age"].median()) / 80.0
    out["europa"] = (df["HomePlanet"] == "Europa").astype(float)
    out["bias"] = 1.0
    return out.to_numpy()


X = make_features(train)
y = train["Transported"].astype(float).to_numpy()
X_test = make_features(test)

# Hold out 20% for validation
rng = np.random.default_rng(42)
idx = rng.permutation(len(X))
cut = int(0.8 * len(X))
tr, va = idx[:cut], idx[cut:]

# Logistic regression with plain gradient descent
w = np.zeros(X.shape[1])
for step in range(2000):
    p = 1.0 / (1.0 + np.exp(-X[tr] @ w))
    w -= 0.5 * X[tr].T @ (p - y[tr]) / len(tr)

val_pred = (1.0 / (1.0 + np.exp(-X[va] @ w))) > 0.5
print(f"Validation accuracy: {(val_pred == y[va]).mean():.4f}")

test_pred = (1.0 / (1.0 + np.exp(-X_test @ w))) > 0.5
submission = pd.DataFrame({"PassengerId": test["PassengerId"], "Transported": test_pred})
submission.to_csv("./submission.csv", index=False)
print("Saved submission with", len(submission), "rows")
