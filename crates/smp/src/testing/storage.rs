//! [`FakeStorage`]: a storage partition that counts erases.

/// A storage partition that counts erases and can fail.
#[derive(Debug, Clone, Default)]
pub struct FakeStorage {
    /// Successful erases.
    pub erases: u32,
    /// Fail with this error.
    pub fail: Option<crate::platform::EraseError>,
}

impl crate::platform::StorageErase for FakeStorage {
    fn erase_storage(&mut self) -> Result<(), crate::platform::EraseError> {
        if let Some(e) = self.fail {
            return Err(e);
        }
        self.erases += 1;
        Ok(())
    }
}
