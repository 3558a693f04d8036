"""The model being fine-tuned: its pretrained encoder from PyPI, the multi-task Trainer and the batches it draws."""
