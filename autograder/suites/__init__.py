"""Every assignment's suite, by assignment id."""
from ..suite import Suite
from . import batchnorm, optimizers, preprocessing

SUITES: dict[str, Suite] = {suite.assignment: suite for suite in (
    optimizers.SUITE, batchnorm.SUITE, preprocessing.SUITE)}
