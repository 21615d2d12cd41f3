"""What every vendor sandbox shares: `server` (the threaded HTTP server, requests, responses,
faults and the control endpoint) and `devstack` (start a sandbox process, connect a demo)."""
