"""FastAPI dependencies: the settings, the database and the models come from the app, never
from globals.

They are `async` although they never wait: FastAPI runs a plain function in a worker
thread, a hop on every request for a lookup of nanoseconds.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from experts_panel.db.database import Database
from experts_panel.model_setup import Models
from experts_panel.pipeline.runner import Services
from experts_panel.settings import Settings


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_models(request: Request) -> Models:
    models: Models = request.app.state.models
    return models


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ServicesDep = Annotated[Services, Depends(get_services)]
ModelsDep = Annotated[Models, Depends(get_models)]
