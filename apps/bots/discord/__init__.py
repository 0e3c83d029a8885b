"""The Discord-compatible surface: REST under /api/v10/ and the bot gateway (/gateway/discord),
speaking Discord's payload shapes and op codes over SmaRTC's own services. shapes.py is the one
place SmaRTC's shapes become Discord's."""
