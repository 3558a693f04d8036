"""Batch prediction: ``newsclf-predict``, its input files, worker processes, resumable output and Ray Data."""
