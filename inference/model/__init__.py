"""The model: its settings and heads, BERT in plain torch, the tokenizer, text windows, and loading a folder."""
