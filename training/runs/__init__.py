"""A run's folder and processes: creating the folder without clobbering another, saving the model into it, its log and
tracking, refusing outputs that would overwrite inputs, and several processes sharing one run."""
