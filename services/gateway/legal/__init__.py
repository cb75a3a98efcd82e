"""The legal pages of the region and of each town: Impressum, privacy notice, accessibility."""
