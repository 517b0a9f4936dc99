//! How client and family ids meet SQLite: bound as TEXT, read back as trusted
//! ids (the database only holds ids the server issued), so the store never
//! passes an id through a bare `String`.

use crate::model::{ClientId, FamilyId};
use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

macro_rules! sql_text_id {
    ($name:ident) => {
        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::Borrowed(ValueRef::Text(
                    self.as_str().as_bytes(),
                )))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                String::column_result(value).map($name::from_trusted)
            }
        }
    };
}

sql_text_id!(ClientId);
sql_text_id!(FamilyId);
