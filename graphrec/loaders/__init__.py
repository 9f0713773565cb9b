"""Loaders: declarative specs (`loaders/*.toml`) that read input files into graph data."""

from .build import build
from .spec import EntitySpec, LoaderSpec, TableSpec, builtin_specs, load_builtin, load_spec
from .zoodata import Entity, ZooData

__all__ = ["Entity", "EntitySpec", "LoaderSpec", "TableSpec", "ZooData", "build",
           "builtin_specs", "load_builtin", "load_spec"]
