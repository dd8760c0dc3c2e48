"""Data in and out: eval suites, SQuAD import, fine-tuning data and its checks."""
