"""System checks for what PDF rendering needs from the machine."""
