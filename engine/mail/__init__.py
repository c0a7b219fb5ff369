"""E-mail: rendering the shipped and admin-edited templates, and the transports that send the result."""
