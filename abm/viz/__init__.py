"""The classroom dashboard (Mesa SolaraViz): `abm dashboard`."""
