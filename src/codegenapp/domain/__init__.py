"""Pure types and rules of the product: no I/O, no frameworks, no database."""
