"""Insight for the city: daily roll-ups, period comparisons, Problemfelder, forecast, staffing."""
