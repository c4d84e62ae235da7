import './base.css';
import './create.css';
import './detail.css';
import './doctor.css';
