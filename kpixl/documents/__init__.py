"""What leaves the agency as a file of its own: PDF of the client-facing sheets."""
