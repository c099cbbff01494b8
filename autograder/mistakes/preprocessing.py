"""Known wrong variants of the preprocessing transforms, and correct forms that look different."""
from ..mistakes import Variant

MISTAKES = (
    Variant("zero_center", "test with its own mean", "the test set centred on its own mean", """
def zero_center(X_train, X_test):
    return X_train - X_train.mean(axis=0), X_test - X_test.mean(axis=0)
"""),
    Variant("zero_center", "mean over the wrong axis", "one mean per row instead of per feature", """
def zero_center(X_train, X_test):
    mean = X_train.mean(axis=1, keepdims=True)
    return X_train - mean, X_test - mean[: len(X_test)]
"""),
    Variant("zero_center", "one global mean", "a single mean over all features", """
def zero_center(X_train, X_test):
    mean = X_train.mean()
    return X_train - mean, X_test - mean
"""),
    Variant("standardize", "test with its own statistics", "the test set uses its own mean and std", """
def standardize(X_train, X_test, eps=1e-8):
    def scale(X):
        return (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps)
    return scale(X_train), scale(X_test)
"""),
    Variant("standardize", "not centred", "divided by the std without subtracting the mean", """
def standardize(X_train, X_test, eps=1e-8):
    scale = np.sqrt(X_train.var(axis=0) + eps)
    return X_train / scale, X_test / scale
"""),
    Variant("standardize", "divided by the variance", "no square root", """
def standardize(X_train, X_test, eps=1e-8):
    mean, var = X_train.mean(axis=0), X_train.var(axis=0)
    return (X_train - mean) / (var + eps), (X_test - mean) / (var + eps)
"""),
    Variant("standardize", "epsilon outside the square root", "sqrt(var) + eps", """
def standardize(X_train, X_test, eps=1e-8):
    mean, std = X_train.mean(axis=0), np.sqrt(X_train.var(axis=0)) + eps
    return (X_train - mean) / std, (X_test - mean) / std
"""),
    Variant("pca_project", "no centring", "the covariance and projection of uncentred data", """
def pca_project(X_train, X_test, k):
    values, vectors = np.linalg.eigh(X_train.T @ X_train / len(X_train))
    top = vectors[:, np.argsort(values)[::-1][:k]]
    return X_train @ top, X_test @ top
"""),
    Variant("pca_project", "smallest components", "eigh's order kept: the k smallest", """
def pca_project(X_train, X_test, k):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    return (X_train - mean) @ vectors[:, :k], (X_test - mean) @ vectors[:, :k]
"""),
    Variant("pca_project", "test with its own mean", "the test set centred on its own mean", """
def pca_project(X_train, X_test, k):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    top = vectors[:, np.argsort(values)[::-1][:k]]
    return (X_train - mean) @ top, (X_test - X_test.mean(axis=0)) @ top
"""),
    Variant("pca_project", "rows of U", "eigenvectors taken as rows, not columns", """
def pca_project(X_train, X_test, k):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    top = vectors[np.argsort(values)[::-1][:k], :].T
    return (X_train - mean) @ top, (X_test - mean) @ top
"""),
    Variant("whiten", "divided by the eigenvalue", "no square root", """
def whiten(X_train, X_test, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    order = np.argsort(values)[::-1]
    scale = vectors[:, order] / (values[order] + eps)
    return (X_train - mean) @ scale, (X_test - mean) @ scale
"""),
    Variant("whiten", "smallest first", "components left in eigh's ascending order", """
def whiten(X_train, X_test, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    scale = vectors / np.sqrt(values + eps)
    return (X_train - mean) @ scale, (X_test - mean) @ scale
"""),
    Variant("whiten", "test with its own statistics", "the test set whitened with its own covariance", """
def whiten(X_train, X_test, eps=1e-5):
    def white(X):
        centred = X - X.mean(axis=0)
        values, vectors = np.linalg.eigh(centred.T @ centred / len(X))
        order = np.argsort(values)[::-1]
        return centred @ (vectors[:, order] / np.sqrt(values[order] + eps))
    return white(X_train), white(X_test)
"""),
    Variant("whiten", "covariance over N-1", "np.cov's default divides by N - 1", """
def whiten(X_train, X_test, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T))
    order = np.argsort(values)[::-1]
    scale = vectors[:, order] / np.sqrt(values[order] + eps)
    return (X_train - mean) @ scale, (X_test - mean) @ scale
"""),
)

HINTS = {
    ("zero_center", "test with its own mean"):
        "The test data is centred with the training mean: at test time there may be one example.",
    ("zero_center", "mean over the wrong axis"):
        "Take the mean over the rows (axis 0): one mean per feature, shape (D,).",
    ("zero_center", "one global mean"):
        "Each feature gets its own mean: X_train.mean(axis=0), not one number for all.",
    ("standardize", "test with its own statistics"):
        "Scale the test data with the training mean and standard deviation.",
    ("standardize", "not centred"):
        "Subtract the training mean before dividing by the standard deviation.",
    ("standardize", "divided by the variance"):
        "Divide by the standard deviation, sqrt(var + eps), not by the variance.",
    ("standardize", "epsilon outside the square root"):
        "eps goes inside the square root: sqrt(var + eps).",
    ("pca_project", "no centring"):
        "Centre the data with the training mean first: PCA's covariance is about spread around "
        "the mean.",
    ("pca_project", "smallest components"):
        "np.linalg.eigh returns eigenvalues in ascending order: take the k largest, largest first.",
    ("pca_project", "test with its own mean"):
        "Centre the test data with the training mean before projecting it.",
    ("pca_project", "rows of U"):
        "eigh returns eigenvectors as columns: vectors[:, i] belongs to values[i].",
    ("whiten", "divided by the eigenvalue"):
        "Divide by sqrt(eigenvalue + eps): the eigenvalue is a variance, its root a standard "
        "deviation.",
    ("whiten", "smallest first"):
        "Sort the components by eigenvalue, largest first, as PCA does.",
    ("whiten", "test with its own statistics"):
        "Whiten the test data with the training mean, eigenvectors and eigenvalues.",
    ("whiten", "covariance over N-1"):
        "Use the covariance Xc.T @ Xc / N (np.cov(..., bias=True)); np.cov divides by N - 1 by "
        "default.",
}

ALTERNATIVES = (
    Variant("pca_project", "SVD", "right singular vectors of the centred data, other signs", """
def pca_project(X_train, X_test, k):
    mean = X_train.mean(axis=0)
    _, _, vt = np.linalg.svd(X_train - mean, full_matrices=False)
    top = -vt[:k].T  # any sign per component is right
    return (X_train - mean) @ top, (X_test - mean) @ top
"""),
    Variant("pca_project", "np.cov with bias", "np.cov(X.T, bias=True) and eig", """
def pca_project(X_train, X_test, k):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eig(np.cov(X_train.T, bias=True))
    top = np.real(vectors[:, np.argsort(np.real(values))[::-1][:k]])
    return (X_train - mean) @ top, (X_test - mean) @ top
"""),
    Variant("whiten", "SVD", "singular values give the eigenvalues: s**2 / N", """
def whiten(X_train, X_test, eps=1e-5):
    mean = X_train.mean(axis=0)
    _, s, vt = np.linalg.svd(X_train - mean, full_matrices=False)
    values = s**2 / len(X_train)
    scale = vt.T / np.sqrt(values + eps)
    return (X_train - mean) @ scale, (X_test - mean) @ scale
"""),
    Variant("standardize", "two steps", "zero_center's idea, then np.std-based scaling", """
def standardize(X_train, X_test, eps=1e-8):
    mean = np.mean(X_train, axis=0, keepdims=True)
    std = np.sqrt(np.std(X_train, axis=0, keepdims=True) ** 2 + eps)
    return (X_train - mean) / std, (X_test - mean) / std
"""),
    Variant("zero_center", "keepdims", "the mean kept as shape (1, D)", """
def zero_center(X_train, X_test):
    mean = np.mean(X_train, axis=0, keepdims=True)
    return X_train - mean, X_test - mean
"""),
)
