"""The vendor's fake and its test and dev hooks: `server` (the sandbox app and make_server),
`testkit` (the contract suite's and the benchmarks' set-up), `devstack` (`make run`), `bench`
(the benchmark profile), and the modules they are built from. The connector, client and schema never import it."""
