"""Write digits.npz from scikit-learn's bundled copy of the UCI handwritten digits.

1797 images of 8x8 pixels with grey levels 0..16, labels 0..9. Learners' folders get this
file, so they need no scikit-learn: ``python data/make_digits.py`` (needs scikit-learn)
rebuilds it.
"""
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

digits = load_digits()
np.savez_compressed(Path(__file__).with_name("digits.npz"),
                    images=digits.data.astype(np.uint8), labels=digits.target.astype(np.uint8))
