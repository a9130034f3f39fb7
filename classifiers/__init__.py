"""Huiyan's checks on content: transformer text classifiers (a later issue) and label compliance (``labels``)."""
