"""Loaders: declarative specs (`loaders/*.toml`) that read input files into graph data."""

from .build import Entity, ZooData, build
from .spec import EntitySpec, LoaderSpec, TableSpec, builtin_specs, load_builtin, load_spec

__all__ = ["Entity", "EntitySpec", "LoaderSpec", "TableSpec", "ZooData", "build",
           "builtin_specs", "load_builtin", "load_spec"]
