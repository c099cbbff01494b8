"""Held-out wrong variants of the graded functions, kept out of the mistake catalog, for
measuring how often the feedback's diagnosis names a mistake it was not written for."""
