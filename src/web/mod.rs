//! Pages for people, served beside the JSON API: the buyer's payment page
//! (`pay`) and the seller's console (`console`).

pub mod console;
pub mod pay;
