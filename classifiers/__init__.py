"""Huiyan's checks on content: text classifiers (a later issue) and label compliance (``labels``)."""
