"""The classroom dashboard (a Solara page): `abm dashboard`."""
