"""One module per producing service; each exports ``EVENTS = {(type, version): schema class}``."""
