"""Running the app as several processes behind a proxy (see replicas.py and haproxy.cfg)."""
