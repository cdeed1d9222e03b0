"""Pictures: event displays and plots."""
