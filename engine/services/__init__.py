"""Use cases: the API of webapp/, tasks/ and the CLI. One public function = one transaction."""
