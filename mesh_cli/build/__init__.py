"""`mesh build`: domains in dependency order, each ingested, built, saved and published (`run.py`)."""
