"""Encoders of real photos: a frozen ImageNet backbone and a head trained for a catalogue."""
