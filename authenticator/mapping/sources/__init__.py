"""Mapping sources ("backend modes", named in ``modes``): each loads a MappingSet and keeps it current."""
