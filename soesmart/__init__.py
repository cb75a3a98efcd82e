"""soesmart: the citizen participation network of the five towns (5 für Südwestfalen)."""
