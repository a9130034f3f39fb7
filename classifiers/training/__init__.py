"""Training of Huiyan's text classifiers: masked-LM pre-training of the encoder, then fine-tuning.

Needs the ``train`` extra (torch); serving never imports this package.
"""
