"""The built-in scenarios (YAML) and trace sets (`traces/*.jsonl`): data, no code."""
