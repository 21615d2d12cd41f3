"""What `resolve` needs of a connection besides its mappings: the chosen accounts and currency rules."""

from dataclasses import dataclass

from connectors.vendor_settings import VendorSettings


@dataclass(frozen=True)
class ConnectionSettings:
    employee_claims_account: str = ""     # liability: claims owed to employees
    employees_balance_account: str = ""   # asset: money loaded on employee cards
    funding_bank_account: str = ""
    base_currency: str = ""               # the organisation's
    base_currency_amounts: bool = False   # the target books only in base currency
    system: str = ""
    realised_fx: bool = True              # the vendor's bank transaction can carry a gain/loss line

    @classmethod
    def from_connection(cls, connection) -> "ConnectionSettings":
        return cls(
            employee_claims_account=connection.employee_claims_account,
            employees_balance_account=connection.employees_balance_account,
            funding_bank_account=connection.funding_bank_account,
            base_currency=connection.organization.base_currency,
            base_currency_amounts=VendorSettings.of(connection).base_currency_amounts,
            system=connection.system,
            realised_fx=_carries_bank_fx_line(connection.system),
        )


def _carries_bank_fx_line(system: str) -> bool:
    from connectors.base import connector_class
    try:
        return connector_class(system).carries_bank_fx_line
    except LookupError:
        return True
