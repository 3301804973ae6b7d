"""``ganforge serve``: an HTTP API and a web page for trained runs."""
