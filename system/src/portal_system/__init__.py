"""Running the whole portal on one machine: launcher, mail sink, benchmark."""
