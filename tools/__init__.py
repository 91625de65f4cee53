"""Tooling around the program: the offline render engine, the review tools, set-up and generators. Never deployed."""
