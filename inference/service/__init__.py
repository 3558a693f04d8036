"""The HTTP service (``newsclf-serve``): the app, its entry point, request checks, dynamic batching, the page."""
