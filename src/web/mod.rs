//! Pages for people, served beside the JSON API: the buyer's payment page
//! (`pay`).

pub mod pay;
