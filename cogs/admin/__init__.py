"""Server administration: the `/admin` group for members with Manage Server (`/admin quota`)."""

from __future__ import annotations

from discord.ext import commands

from bot.ui.application import application
from cogs.admin.cog import Admin


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Admin(application(bot)))
